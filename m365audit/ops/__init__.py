"""Running m365audit as a nightly job: configuration, steps, logs, retention, delivery, doctor."""
