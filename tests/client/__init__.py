"""Tests of the signed GA API client, its errors, credentials and the signing functions."""
