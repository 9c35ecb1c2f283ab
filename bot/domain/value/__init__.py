"""Value made visible: value-creation stories, significant change, the value report."""
