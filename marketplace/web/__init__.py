"""The web toolkit every area's pages share: loading input through a schema with one error
type, the GOV.UK error summary, and pagination. It imports no area (import-linter)."""
