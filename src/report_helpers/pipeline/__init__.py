"""The pipeline of `briefing build`: find sections, execute them with papermill, convert with nbconvert, print with WeasyPrint."""
