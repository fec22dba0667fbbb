"""ses-dkim-monitor: watch SES identities and the DNS records behind their DKIM signatures."""

__version__ = "0.1.0"
