"""The notebook widgets: ChatWidget, ModelManager, EmbeddingExplorer and the plot helpers.

Import them from `ollama_nb` (`ollama_nb.ChatWidget`); the submodules load on first use so that
`import ollama_nb` stays quick and does not pull in ipywidgets or matplotlib.
"""
