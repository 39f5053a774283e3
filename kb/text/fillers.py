"""Filler words: articles, prepositions, pronouns, particles and question words, never highlighted in a snippet.

They still count for search (bm25 gives them almost no weight anyway); a
snippet that marks every "the", "на" and "的" of a section hides the words
that matched. These are function words only, short lists in the manner of
Lucene's and Snowball's: a longer general list ("open", "close", "problem",
"computer", "use" are stop words in some of them) would hide the words of a
support question that matter. Matched on tokens as kb/text/languages.tokenize
makes them (lowercased, and Snowball-stemmed for letters), so the lists are
tokenised once with the language they belong to.
"""

from __future__ import annotations

import functools

from kb.text import languages

_WORDS = {
    "en": """a an the and or but if then of in on at to for from by with without about into onto over under
        is are was were be been being am do does did done have has had can could will would shall should may
        might must i me my we our you your he him his she her it its they them their this that these those there
        here what which who whom whose when where why how not no yes so as than too very also just only all any
        some each every other such own same again please hi hello thanks thank""",
    "ru": """и или но а да же ли не ни в во на с со к ко по о об обо от до из из-за у за для при про без над под
        через между это этот эта эти тот та те то что чтобы как так там тут где когда почему зачем какой какая
        какие каком который которая которые кто чем чего я мы ты вы он она оно они мой моя мои мне меня нам нас
        вам вас ему его ее её им их был была было были быть есть будет уже еще ещё всё все очень тоже также
        только бы вот здравствуйте пожалуйста спасибо""",
    "es": """el la los las un una unos unas y o pero si de del en con sin por para a al que qué como cómo cuando
        cuándo donde dónde es son está están ser estar hay mi mis tu tus su sus mí me te se lo le les nos yo tú
        él ella ellos ellas esto este esta estos estas eso ese esa no sí muy también ya hola gracias""",
    "de": """der die das den dem des ein eine einen einem einer eines und oder aber wenn dann von in im an am
        auf zu zum zur für mit ohne über unter bei aus nach vor ist sind war waren sein bin hat haben habe kann
        können wird werden ich mich mir wir uns du dich dir er sie es ihr ihm ihn mein meine dein sein ihr
        dies diese dieser was wer wie wo warum wann nicht kein keine ja so als auch nur sehr noch schon hallo
        danke bitte""",
    "fr": """le la les un une des du de d l et ou mais si en dans sur sous à au aux avec sans pour par que qui
        quoi comment quand où pourquoi est sont était être ai a avez ont je me moi nous vous tu te il elle on
        ils elles se ce cet cette ces mon ma mes ton ta tes son sa ses ne pas plus très aussi déjà bonjour merci""",
    "zh": """的 地 得 了 着 过 吗 呢 吧 啊 呀 嘛 是 在 和 与 及 或 也 都 就 还 又 把 被 让 给 对 从 向 到 于 为 以
        我 你 您 他 她 它 我们 你们 他们 这 那 这个 那个 这些 那些 什么 怎么 怎样 怎么办 如何 为什么 哪 哪里 哪个
        吗 一个 有 没 没有 不 很 请 谢谢 您好 你好""",
    "zh-Hant": """的 地 得 了 著 過 嗎 呢 吧 啊 呀 嘛 是 在 和 與 及 或 也 都 就 還 又 把 被 讓 給 對 從 向 到 於 為
        以 我 你 您 他 她 它 我們 你們 他們 這 那 這個 那個 這些 那些 什麼 怎麼 怎樣 怎麼辦 如何 為什麼 哪 哪裡 哪個
        一個 有 沒 沒有 不 很 請 謝謝 您好 你好""",
}


@functools.cache
def tokens(lang: str | None) -> frozenset[str]:
    """The filler tokens for a text in `lang`, as the tokeniser makes them: that language's, and the Chinese
    ones in either script (Han tokens come from Han text only, whatever the version's language)."""
    out: set[str] = set()
    for code in dict.fromkeys((lang or "", "zh", "zh-Hant")):
        for word in _WORDS.get(code, "").split():
            out.update(languages.tokenize(word, code))
    return frozenset(out)
