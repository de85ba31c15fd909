"""The build: find sections, execute them with papermill, convert with nbconvert, print with WeasyPrint."""
