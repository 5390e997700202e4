"""(later in this series)"""

ROUTES: list = []
