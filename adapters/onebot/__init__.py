"""OneBot v11: QQ through NapCat, LLOneBot or Lagrange, and WeChat bridges speaking v11."""
