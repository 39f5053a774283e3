import pytest

from kb.text import languages
from kb.errors import QueryError

KB = {"en", "zh", "ru", "es"}


@pytest.mark.parametrize("query, prior, expected", [
    ("wifi 密码", "en", "zh"),          # Han outweighs Latin loan words
    ("ошибка 502", "en", "ru"),         # Cyrillic script decides
    ("502", "ru", "ru"),                # no letters: the UI language
    ("cache", "es", "es"),              # one word, ambiguous: the UI language tips it
    ("how do I reset my console password after the link expired", "es", "en"),  # long: langdetect wins
    ("¿cómo configuro el dominio acelerado en la consola?", "en", "es"),
])
def test_detection_uses_script_langdetect_and_ui_prior(query, prior, expected):
    assert languages.detect(query, KB, prior).lang == expected


def test_detection_is_restricted_to_languages_of_the_knowledge_base():
    # Japanese kana, but the KB has no Japanese: we answer with an available language
    d = languages.detect("パスワード", {"en", "ru"}, "ru")
    assert d.lang == "ru" and d.confidence < 0.5


def test_codes_are_normalized_and_unknown_ones_refused():
    assert languages.normalize("zh-CN") == "zh" and languages.normalize("ru_RU") == "ru"
    assert languages.normalize(None) is None
    with pytest.raises(QueryError, match="unknown language 'xx'"):
        languages.normalize("xx")


def test_chinese_tokens_include_sub_words():
    tokens = languages.tokenize("农业发展银行回源失败")
    assert {"农业", "银行", "农业发展银行", "回源", "失败"} <= set(tokens)


def test_words_are_stemmed_by_script_and_codes_kept_whole():
    tokens = languages.tokenize("Очистка кэша purging caches ERR_CERT_DATE_INVALID 502", "en")
    assert "кэш" in tokens and "purg" in tokens and "cach" in tokens
    assert "err_cert_date_invalid" in tokens and "502" in tokens
