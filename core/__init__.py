"""The shared content layer: content model, catalogue loading, working days, vocabularies, statistics contract.

It imports neither the generator nor the backend; both import it (see docs/architecture.md)."""
