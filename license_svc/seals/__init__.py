"""The seal registry of a region (印章管理): see `license_svc.seals.registry`."""
