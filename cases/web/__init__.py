"""The reviewer workbench (HTML): views, forms, charts and URLs."""
