"""PLM-VideoBench metrics, model-output parsing and the LLM judge client.

Pure Python (no Django): benchmark scoring and the human-agreement measure run the same code.
"""
