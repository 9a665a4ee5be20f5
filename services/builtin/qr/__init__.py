"""qr: QR code PNG images for text and links, kept per account and served at a public URL."""
