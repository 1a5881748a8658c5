"""The completion report of a session: the data gathered from the store (`build`), the
coordination document's sections (`document`) and the numbers in it (`metrics`).

May import: what `coordinator.views` may import, and the rest of `views`.
"""
