"""What counts as code in a check's tier-1 line. Shared by the tests of the feedback."""

import re

# Each pattern is a piece of Python that a sentence in words or maths has no need of: a NumPy
# call, a keyword argument, a matrix product, a transpose, a method call, an index, an augmented
# assignment, code in backticks, an assignment of an expression, or a Python keyword.
CODE_PATTERNS = [
    r"\bnp\.\w+", r"\b(axis|dtype|out|keepdims|ddof|size)\s*=", r"\bkeepdims\b",
    r"[\w)\]]\s*@\s*[\w(]", r"\w\.T\b", r"\b[A-Za-z_]\w*\.[A-Za-z_]\w*\s*\(",
    r"\b[A-Za-z_]\w*\[[^\]]*\]", r"[+\-*/]=", r"`[^`]*[()\[\]=][^`]*`",
    r"\b[A-Za-z_]\w*\s*=\s*(?![\d−\-+.])[A-Za-z_(\[]",
    r"\b(range|len|zip|enumerate|isinstance|print|sum|astype|reshape)\(",
    r"\b(yield|lambda|import|def)\b", r"\bself\.",
]
_CODE = re.compile("|".join(f"(?:{p})" for p in CODE_PATTERNS))


def code_in(line):
    """The first piece of code found in ``line``, or None."""
    found = _CODE.search(line)
    return found.group(0) if found else None
