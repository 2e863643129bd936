"""pyctypes"""
