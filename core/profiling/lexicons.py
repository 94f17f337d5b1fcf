"""Small hand-written word lists the profiler and the verifier measure against.

They are deliberately short and English-only: each list exists to count one habit, not to be a
dictionary. Everything is lower-case; matching is on lower-cased tokens.
"""

from __future__ import annotations

import re


def _words(text: str) -> list[str]:
    return text.split()


# Closed-class words whose relative frequencies are a classic authorship signal (after Mosteller
# and Wallace): their use is habitual and mostly independent of topic.
FUNCTION_WORDS: tuple[str, ...] = (
    "a", "about", "above", "after", "again", "against", "all", "also", "although", "am", "an",
    "and", "any", "anyway", "are", "as", "at", "be", "because", "been", "before", "being",
    "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing",
    "down", "during", "each", "either", "else", "enough", "even", "ever", "every", "few", "for",
    "from", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how",
    "however", "i", "if", "in", "into", "is", "it", "its", "just", "least", "less", "like",
    "may", "me", "might", "more", "most", "much", "must", "my", "neither", "never", "no", "nor",
    "not", "now", "of", "off", "often", "on", "once", "one", "only", "or", "other", "our", "out",
    "over", "own", "perhaps", "quite", "rather", "same", "shall", "she", "should", "since", "so",
    "some", "still", "such", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "though", "through", "thus", "to", "too", "under", "until", "up",
    "upon", "us", "very", "was", "we", "were", "what", "when", "where", "whether", "which",
    "while", "who", "whom", "whose", "why", "will", "with", "within", "without", "would", "yet",
    "you", "your", "yours",
)  # fmt: skip

FUNCTION_WORD_INDEX: dict[str, int] = {word: i for i, word in enumerate(FUNCTION_WORDS)}

# Opening words of a message that greet; matched on the first one or two tokens.
GREETINGS: tuple[str, ...] = (
    "hi", "hello", "hey", "heya", "hiya", "yo", "howdy", "greetings", "morning",
    "good morning", "good afternoon", "good evening", "dear", "hi all", "hey all", "hello all",
    "hi there", "hey there", "sup", "hola", "evening", "afternoon",
)  # fmt: skip

# Closing formulas: matched on the last line or the last few tokens of a message.
SIGN_OFFS: tuple[str, ...] = (
    "cheers", "thanks", "thank you", "best", "best regards", "regards", "kind regards",
    "warm regards", "all the best", "take care", "talk soon", "ttyl", "later", "bye", "cya",
    "see you", "see ya", "sincerely", "yours", "many thanks", "thx", "ta", "xo", "xx", "x",
    "love", "peace", "night", "gn",
)  # fmt: skip

# Informal abbreviations and chat slang, with the contraction-without-apostrophe family.
SLANG: frozenset[str] = frozenset(
    _words(
        """
    lol lmao lmfao rofl haha hahaha hehe heh btw imo imho tbh afaik iirc fyi brb bbl ttyl idk
    idc omg omfg wtf ftw np nvm thx ty tnx pls plz plox u ur r y k kk ok okay yep yup yeah yea
    nah nope gonna wanna gotta kinda sorta dunno lemme gimme ya cya cuz coz bc tho thru w/e
    irl asap ikr smh fwiw jk ftfy rtfm ymmv afk gg ugh meh hmm hmmm mmm yay woot w00t sup
    dont cant wont isnt doesnt didnt im ive youre thats whats theres wasnt arent couldnt
    shouldnt wouldnt aint
    """
    )
)

# Words and short phrases that mark careful, formal writing.
FORMAL_MARKERS: frozenset[str] = frozenset(
    _words(
        """
    regards sincerely furthermore moreover however therefore nevertheless accordingly
    kindly please appreciate regarding concerning pursuant hereby thus whereas additionally
    consequently subsequently respectively approximately assistance inquire request
    """
    )
)

# A small sentiment lexicon of our own (valence in [-1, 1]).
POSITIVE: frozenset[str] = frozenset(
    _words(
        """
    good great nice cool awesome excellent fantastic wonderful amazing love lovely like liked
    happy glad thanks thank thx appreciate appreciated perfect brilliant sweet fun enjoy enjoyed
    yay beautiful best better helpful excited exciting welcome works working fixed solved
    pleased congrats congratulations well neat superb fine ok okay sure agreed agree yes
    """
    )
)
NEGATIVE: frozenset[str] = frozenset(
    _words(
        """
    bad terrible awful horrible hate hated sad sorry annoying annoyed angry broken fail failed
    fails failing failure problem problems issue issues bug bugs crash crashed crashes wrong
    worse worst ugly stupid useless error errors sucks suck damn hell ugh unfortunately
    disappointed disappointing worried worry upset tired hard difficult impossible pain
    mess confusing confused stuck lost
    """
    )
)

# Emoticons written with ASCII; longest first so ":-)" wins over ":)".
EMOTICONS: tuple[str, ...] = tuple(
    sorted(
        _words(
            """
        :) :-) :( :-( :D :-D ;) ;-) :P :-P :p :-p :/ :-/ :\\ :| :-| :o :O :-o XD xD <3 </3
        ^^ ^_^ -_- o_O O_o :') :'( 8) 8-) :3 ;D =) =( =D =P :S :s :] :[ :* :-*
        """
        ),
        key=len,
        reverse=True,
    )
)

EMOTICON_RE = re.compile(
    r"(?:(?<=\s)|^)(?:" + "|".join(re.escape(e) for e in EMOTICONS) + r")(?=\s|$|[.,!?])"
)

# Pictographic emoji ranges (enough for counting, not a full Unicode emoji parser).
EMOJI_RE = re.compile(
    "["
    "\U0001f300-\U0001f5ff"
    "\U0001f600-\U0001f64f"
    "\U0001f680-\U0001f6ff"
    "\U0001f700-\U0001f77f"
    "\U0001f900-\U0001f9ff"
    "\U0001fa70-\U0001faff"
    "\u2600-\u26ff"
    "\u2700-\u27bf"
    "\u2b50\u2b55\u2764\u2705\u274c"
    "]"
)

# Common acronyms that are ALL CAPS by convention; they do not count as "shouting".
ACRONYMS: frozenset[str] = frozenset(
    _words(
        """
    OK OS PC CPU GPU RAM USB CD DVD HDD SSD IP DNS LAN WAN URL HTTP HTTPS SSH FTP API UI GUI
    CLI IRC PR QA CEO CTO HR IT US UK EU NYC PM AM ETA FYI ASAP TV ID PDF KDE GNU LTS BIOS
    UEFI NVIDIA ATI AMD SATA IDE ISO MBR GPT NTFS FAT VNC VGA MB GB KB TB NFS SMB XP RC VPN
    """
    )
)
