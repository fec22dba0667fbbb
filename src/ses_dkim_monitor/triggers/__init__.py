"""Event-driven re-checks: which AWS events mean "look again now", and at what.

``events`` turns one EventBridge event into a ``Recheck`` and maps it onto the
identities the monitor knows; ``patterns`` holds the EventBridge rules that
deliver those events. Both are pure: no boto3, no clock.
"""
