"""Reliability tests: chaos, crashes, restarts, hostile servers, bad input at scale and secrets."""
