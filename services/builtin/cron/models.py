from __future__ import annotations

from typing import Any

from django.db import models


class Job(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    interval_seconds = models.PositiveIntegerField()
    callback_url = models.CharField(max_length=2048)
    # The next time the job is due; dispatch_due moves it on when it claims a run.
    next_run_at = models.DateTimeField(db_index=True)
    # The due time of the last run that started; a redelivered run of the same slot is skipped.
    last_slot = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    # The error envelope of the last failed run, or None after a run that succeeded.
    last_error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="builtin_cron_unique_job")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "interval": self.interval_seconds,
            "callback": self.callback_url,
            "next_run": self.next_run_at.isoformat(),
            "last_run": self.last_run_at.isoformat() if self.last_run_at else "",
            "last_status": self.last_status or 0,
            "last_error": self.last_error or {},
            "created": self.created_at.isoformat(),
        }
