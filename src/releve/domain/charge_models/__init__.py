"""One small module per charge model, plus what they share: properties, tiers, breakdowns.

Callers normally go through `releve.domain.pricing`, the façade.
"""
