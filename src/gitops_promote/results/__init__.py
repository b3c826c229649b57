"""What each command returns: the data its renderers draw and its JSON serialises.

Below the commands (which build these) and beside the renderers (which only read them):
renderers never import a command module. Plain data over core and adapter types.
"""
