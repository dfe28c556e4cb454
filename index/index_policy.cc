// Placeholder translation unit; the index policy lands here.
