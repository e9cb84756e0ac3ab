"""The forms backend (complaints, evaluations, supervisory queue); built in its own issue."""
