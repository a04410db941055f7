"""The knowledge community: articles, questions and answers, consultation tickets."""
