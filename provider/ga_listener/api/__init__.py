"""The Global Accelerator RPC client and its retry policy."""
