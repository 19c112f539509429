-- Which policy file a check run judged, exactly, and when each muted finding's exception ends.
--
-- The report shows the results of the policy it is given (issue 14): it compares the
-- policy file's SHA-256 with the stored run's, and runs the checks afresh when they
-- differ. A muted (excepted) finding is shown with its reason and the exception's end date.
ALTER TABLE check_runs ADD COLUMN policy_sha256 VARCHAR;
ALTER TABLE check_findings ADD COLUMN exception_until DATE;
