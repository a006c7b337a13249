"""`manage.py simulate`: a live demo that drives real traffic into the running product on this machine.

Callers are SIPp processes dialling the line through Kamailio (CC_SIP_BIND) with speech as RTP; agents'
phones are SIPp UAS processes registered at Kamailio as the demo agents' extensions, answering after a
drawn ring time; e-mails (client questions, follow-ups, auto-replies, a bounce, a list post and odd
ones) are delivered into the product's mailbox over LMTP or IMAP APPEND. Nothing is faked inside the
product: the call handlers, the mail watcher, Celery and the ledger see what they would see in service.

- ``plan``: the options and the seeded schedule of calls and e-mails (what ``--dry-run`` prints).
- ``target``: where the running product is (SIP front door, mailbox) and the checks that it runs.
- ``sip``: REGISTER, OPTIONS, and hanging up a SIPp caller's call (BYE or CANCEL) from Python.
- ``sipp``: the SIPp processes (callers, agents' phones) and what their logs say.
- ``audio``: the speech the callers and agents play (espeak-ng, or a tone without it).
- ``agents``: the demo agents on the line (seed_demo's, plus colleagues when more phones are asked for).
- ``mails``: the e-mails, in Latvian; ``delivery``: LMTP or IMAP APPEND.
- ``office``: ``--open-line``, the demo calendar opened for today outside office hours.
- ``runner``: the loop that places calls, delivers e-mails, prints a line per action and the summary.
"""
