"""Platform adapters: each turns platform payloads into events and actions into API calls."""
