"""Policy checks: SQL files in queries/checks/ judged against the organisation's policy file."""
