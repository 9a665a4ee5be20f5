"""Built-in services, one package each; every package registers itself on import."""
