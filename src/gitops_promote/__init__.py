"""gitops-promote: promote a GitOps repository from one environment branch to the next."""

__version__ = "0.1.0"

ISSUES_URL = "https://github.com/gitops-promote/gitops-promote/issues"
