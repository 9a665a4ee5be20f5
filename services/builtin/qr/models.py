from __future__ import annotations

from django.db import models


class QrCode(models.Model):
    """A generated QR code, kept so its image has a stable public URL and Codes can list it."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # Random and unique across accounts, because /qr/<public_id>.png is one public namespace.
    public_id = models.CharField(max_length=32, unique=True)
    text = models.TextField()
    size = models.PositiveIntegerField()
    png = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-created_at"], name="builtin_qr_account_created")]

    def __str__(self) -> str:
        return self.public_id
