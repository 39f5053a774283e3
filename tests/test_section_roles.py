"""Section roles and the section to show: small inline sections in English, Chinese and Russian (no model)."""


import pytest

from kb.search.section_roles import choose, classify, text_cues
from kb.index.store import ChunkRow

CURL = "\n\n```bash\ncurl -sI https://x.example\n```"
STEPS_EN = "1. Open **Domain settings → Origin**.\n2. Raise the origin timeout to 60 s." + CURL
STEPS_ZH = "1. 请在 **域名配置 → 回源配置** 中改正回源端口。\n2. 放通边缘节点 IP 段。" + CURL
STEPS_RU = "1. Откройте **Настройки домена**.\n2. Увеличьте таймаут до 60 с." + CURL
FACTS_EN = "- Slow pages fail with `504` after about 30 seconds.\n- Cached files load normally."
FACTS_ZH = "- 未缓存的资源返回 `502 Bad Gateway`，已缓存的文件正常。\n- 响应头中有 `Server: NimbusEdge`。"
FACTS_RU = "- Источник отдаёт файл, а CDN — `404`.\n- В ответе есть `X-Cache: HIT`."


def row(ord_, path, text, rowid=None):
    heading = path[-1] if path else ""
    anchor = heading.lower().replace(" ", "-")
    return ChunkRow(rowid or ord_ + 1, 1, ord_, heading, anchor, tuple(path), text)


@pytest.mark.parametrize(("path", "text", "role"), [
    (("Fix",), STEPS_EN, "fix"),
    (("解决方法",), STEPS_ZH, "fix"),
    (("Что делать",), STEPS_RU, "fix"),
    (("Symptoms",), FACTS_EN, "symptom"),
    (("现象",), FACTS_ZH, "symptom"),
    (("Симптомы",), FACTS_RU, "symptom"),
    (("Causes",), FACTS_EN, "cause"),
    (("原因",), FACTS_ZH, "cause"),
    (("Почему так происходит",), FACTS_RU, "cause"),
    (("Error codes",), "| HTTP | Code | Meaning |\n|---|---|---|\n| 401 | `Bad` | The signature did not match |",
     "reference"),
    (("错误码",), "| 错误码 | 含义 |\n|---|---|\n| 401 | 签名不匹配 |", "reference"),
    (("Коды ошибок",), "| Код | Значение |\n|---|---|\n| 401 | Подпись не совпала |", "reference"),
    (("Still not working?",), "Send the request ID to [support](contact-support).", "escalation"),
    (("仍未解决？",), "请将请求 ID 发送给[技术支持](contact-support)。", "escalation"),
    (("Не помогло?",), "Отправьте ID запроса в [поддержку](contact-support).", "escalation"),
    ((), "A 504 means the origin did not answer in time.", "intro"),
])
def test_headings_and_text_give_the_role_in_english_chinese_and_russian(path, text, role):
    assert classify(path, text).role == role


def test_a_named_fix_is_explicit_and_a_fix_found_from_its_text_is_not():
    assert classify(("Что делать при RequestTimeTooSkewed",), STEPS_RU).explicit
    assert classify(("排查步骤",), STEPS_ZH).explicit
    found = classify(("Origin timeout",), STEPS_EN)
    assert (found.role, found.explicit) == ("fix", False)
    assert found.bonus < classify(("Fix",), STEPS_EN).bonus


def test_subsections_take_the_role_their_parent_heading_names():
    two_devices = classify(("Causes and fixes", "Two devices in the same room"), "Join with one device per room.")
    assert two_devices.role == "fix"
    assert classify(("原因与解决方法", "同一房间内有两台设备"), "每个房间只用一台设备入会。").explicit
    assert classify(("Причины и решения", "Эхоподавление выключено"), "Включите AEC.").role == "fix"


def test_a_table_of_remedies_is_a_fix_whatever_its_heading_says():
    table = ("| Error | Cause | Fix |\n|---|---|---|\n"
             "| `NET::ERR_CERT_DATE_INVALID` | The certificate expired | Upload a renewed certificate |")
    assert classify(("Common errors",), table).role == "fix"
    purge = ("| Problem | Explanation |\n|---|---|\n| `429 QuotaExceeded` | The daily quota is used up. "
             "Wait for the reset at 00:00 UTC. |\n| Old file still served | Test with `curl -I` and check `Age`. |")
    assert classify(("Why a purge fails",), purge).role == "fix"


def test_other_languages_fall_back_to_structure():
    steps = "1. `sudo systemctl restart nginx`\n\n```bash\ncurl -sI https://x.example\ndig +short x.example\n```"
    assert classify(("Schrittfolge",), steps).role == "fix"  # no German word known: the commands say it
    assert classify(("Übersicht",), "| Port | Zweck |\n|---|---|\n| 443 | Signalisierung |").role == "reference"
    assert classify(("Solución",), "Reinicie el servidor.").role == "fix"
    assert classify(("Síntomas",), "La CDN devuelve 502.").role == "symptom"


def test_instructions_are_counted_across_languages():
    assert text_cues("Check the clock. Then enable NTP.").imperatives == 2
    assert text_cues("If nothing is printed, add the header.").imperatives == 1
    assert text_cues("Проверьте время. Для точности включите синхронизацию NTP.").imperatives == 2
    assert text_cues("Если вы видите ошибку, это нормально.").imperatives == 0
    assert text_cues("请检查防火墙；如果仍然失败，请联系技术支持。").imperatives == 2
    assert text_cues("申请开票后 1–3 个工作日内发送至邮箱。").imperatives == 0
    cues = text_cues("```bash\ncurl -sI https://x\n# a comment\nopenssl s_client -connect x:443\n```\n\n1. One\n2. Two")
    assert (cues.commands, cues.steps) == (2, 2)


@pytest.mark.parametrize(("symptom", "fix"), [
    ((("Symptoms",), FACTS_EN), (("Fix",), STEPS_EN)),
    ((("现象",), FACTS_ZH), (("排查步骤",), STEPS_ZH)),
    ((("Симптомы",), FACTS_RU), (("Что делать",), STEPS_RU)),
])
def test_choose_prefers_the_fix_over_a_restated_symptom_that_matches_a_little_better(symptom, fix):
    intro, sym, fx = row(0, (), "Intro."), row(1, *symptom), row(2, *fix)
    assert choose([(intro, 0.90), (sym, 0.95), (fx, 0.90)]) is fx


def test_choose_skips_the_intro_and_still_working_when_a_fix_matches_reasonably():
    intro = row(0, (), "A 504 means the origin is slow.")
    fix = row(1, ("Fix",), STEPS_EN)
    still = row(2, ("Still not working?",), "Send the request ID to support.")
    assert choose([(intro, 0.93), (fix, 0.88), (still, 0.92)]) is fix


def test_choose_keeps_a_much_better_match_over_a_fix_about_something_else():
    ports = row(0, ("Ports",), "| Protocol | Port | Purpose |\n|---|---|---|\n| UDP | 3478 | STUN |")
    check = row(1, ("Check connectivity",), "```bash\ncurl -sv https://gw.example/ping\nnc -vz gw.example 8443\n```")
    assert choose([(ports, 0.97), (check, 0.93)]) is ports
    symptom = row(2, ("Symptoms",), FACTS_EN)
    assert choose([(symptom, 1.05), (check, 0.90)]) is symptom


def test_choose_never_shows_a_heading_only_section():
    empty = ChunkRow(1, 1, 0, "Causes and fixes", "causes-and-fixes", ("Causes and fixes",), "Causes and fixes")
    sub = row(1, ("Causes and fixes", "Codec mismatch"), "All clients must use the same codec.", rowid=2)
    assert choose([(empty, 0.99), (sub, 0.80)]) is sub
    assert choose([]) is None


def test_choose_judges_the_chunks_of_one_long_section_together():
    # a long table split in two chunks: only the first carries the header with the "Fix" column
    head = ChunkRow(1, 1, 0, "Error codes", "error-codes", ("Error codes",),
                    "| Code | Cause | Fix |\n|---|---|---|\n| 109 | Expired | Get a new token |")
    tail = ChunkRow(2, 1, 1, "Error codes", "error-codes", ("Error codes",), "| 110 | Wrong UID | Use the same UID |")
    intro = row(2, (), "Joining fails with a numeric code.", rowid=3)
    assert choose([(intro, 0.94), (head, 0.85), (tail, 0.90)]) is tail


def test_classifying_a_section_is_memoised():
    """Sections are classified once per text: the cost is in the cache's hits, not in a timed assertion."""
    texts = [(("Fix", str(i)), STEPS_RU * 3 + f"\n{i}") for i in range(200)]
    classify.cache_clear()
    first = [classify(path, text) for path, text in texts]
    again = [classify(path, text) for path, text in texts]
    info = classify.cache_info()
    assert again == first and info.misses == len(texts) and info.hits == len(texts)
