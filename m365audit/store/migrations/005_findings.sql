-- Policy check runs and their findings (`m365audit check`).
--
-- Every run of the checks is kept, so a later run can say which findings are
-- new, still open or fixed since the previous one, and an auditor can see what
-- the tool reported on any date. Rows are written in one short transaction at
-- the end of a check run; nothing else updates them.

CREATE TABLE check_runs (
    run_id        VARCHAR PRIMARY KEY,
    seq           INTEGER NOT NULL UNIQUE,   -- order of runs (1, 2, ...), for "since the previous run"
    started_at    TIMESTAMPTZ NOT NULL,      -- wall-clock time the run started
    checked_at    TIMESTAMPTZ NOT NULL,      -- the time the policy's dates were judged at
    policy_name   VARCHAR NOT NULL,
    policy_file   VARCHAR,                   -- NULL when run with the built-in defaults
    snapshot_at   TIMESTAMPTZ,               -- the licence snapshot the checks read
    tool_version  VARCHAR NOT NULL,
    counts        JSON                       -- {"pass": n, "fail": n, "not_checked": n, "findings": n}
);

-- One row per failing subject (status 'fail'), and one row per check that
-- passed or could not run (subject NULL; detail holds the reason).
CREATE TABLE check_findings (
    run_id            VARCHAR NOT NULL,
    check_id          VARCHAR NOT NULL,
    severity          VARCHAR NOT NULL,      -- low, medium, high, critical
    status            VARCHAR NOT NULL,      -- pass, fail, not_checked
    subject           VARCHAR,
    detail            VARCHAR,
    excepted          BOOLEAN NOT NULL,
    exception_reason  VARCHAR,               -- the policy file's reason when excepted
    change            VARCHAR                -- new or open (fail rows), compared with the previous run
);
