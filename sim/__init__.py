"""pkilab: a discrete-event simulator of Cisco IOS certificate-server hierarchies."""

__version__ = "0.1.0"
