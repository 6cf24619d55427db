"""API Gateway (REST APIs): one module per group of drivers, the mechanics they share in
`common` (naming, reading, tagging) and `patch` (updates as patch operations).

- `rest_api`: the REST API and its routes (resources, methods, integrations);
- `stage`: deployments, stages, method settings and the region's account settings;
- `usage`: API keys, usage plans and plan keys;
- `domain`: custom domain names and base-path mappings.
"""
