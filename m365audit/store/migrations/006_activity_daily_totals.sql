-- Daily Copilot activity totals that outlive the per-user rows they summarise.
--
-- Retention removes who did what after a number of days (see
-- m365audit/ops/retention.py); before it does, the rows it is about to strip
-- are added up here by day, department, app and record type, so adoption
-- trends survive without personal data. The view copilot_activity_daily adds
-- these totals to the live per-user rows.

CREATE TABLE copilot_activity_daily_totals (
    day            DATE NOT NULL,            -- UTC day of the interactions
    department     VARCHAR,                  -- the user's department when summarised
    app_host       VARCHAR,
    record_type    VARCHAR,
    active_users   BIGINT NOT NULL,          -- distinct users that day
    interactions   BIGINT NOT NULL,
    run_id         VARCHAR NOT NULL          -- the run whose retention step summarised them
);
