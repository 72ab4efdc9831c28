"""pearl: answer questions about long documents by planning and executing actions."""
