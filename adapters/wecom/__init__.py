"""WeChat customer groups (客户群) through WeCom's official customer-contact APIs (docs/wecom.md)."""
