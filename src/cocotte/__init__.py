"""Cocotte: the platform of a network of rural tiers-lieux."""
