"""The REST API (v1): one APIView per operation, its parsing, auth and output."""
