"""Collecting from Microsoft Graph: the only package that talks to Graph or builds credentials."""
