"""Paths of real corpus files that tests name (relative to the corpus root)."""

FRISTON = "inbox/archive/2015-03-00-friston-active-inference-epistemic-value.md"
PROPOSAL_14 = "inbox/archive/2024-11-21-futardio-proposal-proposal-14.md"
FUTARCHY_PASTED = (
    "domains/internet-finance/futarchy-can-override-its-own-prior-decisions-when-new-evidence-"
    "emerges-because-conditional-markets-re-evaluate-proposals-against-current-information-not-"
    "historical-commitments.md"
)
DUMMY = "inbox/archive/2024-08-28-futardio-proposal-dummy.md"
RAMSTEAD = "inbox/archive/2018-03-00-ramstead-answering-schrodingers-question.md"
GLP1 = "inbox/archive/2025-06-01-cell-med-glp1-societal-implications-obesity.md"
DRIFT = "entities/internet-finance/drift.md"
MD_SUFFIX = (
    "domains/internet-finance/domain-expertise-loses-to-trading-skill-in-futarchy-markets-because-"
    "prediction-accuracy-requires-calibration-not-just-knowledge.md"
)
SUPERORGANISM = (
    "domains/ai-alignment/human civilization passes falsifiable superorganism criteria because "
    "individuals cannot survive apart from society and occupations function as role-specific "
    "cellular algorithms.md"
)
