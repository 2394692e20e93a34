"""What the tests share: fixture marks, the runtime scenario runner, the fuzzing helpers.

Test modules import from here, never from each other, so running one test module never
pays for another's imports (hypothesmith's import alone takes seconds).
"""
