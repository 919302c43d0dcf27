"""Patch-through calls: sessions and placing, the SMS words of a call, the voice flow, outcomes."""
