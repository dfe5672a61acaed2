"""shadowfleet: investigate sanctions evasion at sea with a graph of vessels, owners, sanctions and events."""

__version__ = "0.1.0"
