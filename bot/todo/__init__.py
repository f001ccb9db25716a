"""/todo (issue #18 items 5-6): what is waiting on a resident or on a grid worker, each item
with the button its own feature already answers."""
