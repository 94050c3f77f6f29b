"""``bgtest checklist``: the deployment guide's Pre-Deployment Checklist and Success Metrics on devices."""
