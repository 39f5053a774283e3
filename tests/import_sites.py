"""Small sites in each layout `kb import` reads, written for these tests (no third-party text)."""

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16  # enough of a file to be copied

DOCUSAURUS = {
    "docusaurus.config.js": "module.exports = {\n  baseUrl: '/',\n  i18n: {\n    defaultLocale: 'en',\n"
                            "    locales: ['en', 'ru', 'zh-CN', 'zh-TW'],\n  },\n  presets: [['classic', {docs: "
                            "{routeBasePath: '/'}}]],\n};\n",
    "docs/intro.md": "---\ntitle: Welcome\nsidebar_position: 1\n---\n\nimport Tabs from '@theme/Tabs';\n"
                     "import TabItem from '@theme/TabItem';\n\nThe Lumen router keeps a home network fast.\n\n"
                     "<!-- editors: keep this short -->\n\nSee [setup](/routers/setup.md#first-boot) and "
                     "[the reset guide](/routers/reset) first.\n\n<iframe src=\"https://video.example.org/lumen\" "
                     "title=\"Tour\"></iframe>\n\n<Tabs>\n<TabItem value=\"win\" label=\"Windows\">\n\nOpen the "
                     "Lumen app.\n\n</TabItem>\n</Tabs>\n\n<script>track();</script>\n",
    "docs/routers/_category_.json": '{"label": "Routers", "position": 2}',
    "docs/routers/setup.md": "---\ntitle: Setting up the Lumen router\n---\n\nPlug the router in and wait for the "
                             "green light.\n\n![Front panel](./img/panel.png)\n![Back panel](/img/back.png)\n"
                             "![Lost](./img/lost.png)\n\n## First boot {#first-boot}\n\n:::note\n\nThe first boot "
                             "takes two minutes.\n\n:::\n\n:::caution Power\n\nNever unplug it while the light "
                             "blinks.\n\n:::\n\n## Commands\n\n1. Connect over SSH:\n   - ```none\n     # this is "
                             "a comment, not a heading\n     ssh admin@192.168.8.1\n     ```\n2. Check the "
                             "[reset steps](reset.md).\n\n<details>\n<summary>Advanced</summary>\n\nA table:"
                             "<br/>ports 1 to 4.\n\n</details>\n",
    "docs/routers/reset.md": "---\nid: factory-reset\ntitle: Resetting the router\ntags: [recovery]\n---\n\nHold "
                             "the reset button for ten seconds until every light turns off, then release it and "
                             "wait for the router to restart with its factory settings.\n",
    "docs/routers/img/panel.png": PNG,
    "static/img/back.png": PNG,
    "i18n/ru/docusaurus-plugin-content-docs/current.json": '{"sidebar.sidebar.category.Routers": {"message": '
                                                             '"Роутеры"}}',
    "i18n/ru/docusaurus-plugin-content-docs/current/routers/setup.md":
        "---\ntitle: Настройка роутера Lumen\n---\n\nВключите роутер в розетку и подождите, пока загорится зелёный "
        "индикатор.\n\n## Первое включение {#first-boot}\n\n:::note\n\nПервая загрузка занимает две минуты.\n\n:::\n"
        "\n## Команды\n\nПодключитесь по SSH и проверьте [шаги сброса](reset.md). Подробности — в разделе "
        "[первое включение](#first-boot).\n",
    "i18n/ru/docusaurus-plugin-content-docs/current/routers/old-page.md": "---\ntitle: Старая страница\n---\n\n"
                                                                           "Эта страница больше не существует.\n",
    "i18n/zh-CN/docusaurus-plugin-content-docs/current/routers/reset.md":
        "---\nid: factory-reset\ntitle: 恢复出厂设置\n---\n\n按住复位按钮十秒钟，直到所有指示灯熄灭，然后松开按钮，等待路由器"
        "以出厂设置重新启动。\n",
    "i18n/zh-TW/docusaurus-plugin-content-docs/current/routers/reset.md":
        "---\nid: factory-reset\ntitle: Resetting the router\n---\n\nHold the reset button for ten seconds until "
        "every light turns off, then release it and wait for the router to restart with its factory settings.\n",
}

MKDOCS_SUFFIX = {
    "mkdocs.yml": "site_name: Lumen\nmarkdown_extensions:\n  - admonition\n  - pymdownx.superfences:\n"
                  "      custom_fences:\n        - name: mermaid\n          format: !!python/name:pymdownx.superfences"
                  ".fence_code_format\nplugins:\n  - i18n:\n      docs_structure: suffix\n      languages:\n"
                  "        - locale: en\n          default: true\n        - locale: ru\n",
    "docs/index.md": "# Lumen help\n\nStart with [Wi-Fi](wifi/channels.md), in [Russian](/ru/wifi/channels/) too.\n",
    "docs/wifi/channels.md": "# Choosing a Wi-Fi channel\n\n!!! tip\n    Channels 1, 6 and 11 never overlap.\n\n"
                             "=== \"Android\"\n\n    Open Settings, then Wi-Fi.\n\n=== \"iOS\"\n\n    Open Settings."
                             "\n\n--8<-- \"snippets/footer.md\"\n",
    "docs/wifi/channels.ru.md": "# Выбор канала Wi-Fi\n\n??? tip\n    Каналы 1, 6 и 11 никогда не пересекаются.\n\n"
                                "Откройте настройки роутера и выберите свободный канал.\n",
}

MKDOCS_FOLDER = {
    "mkdocs.yml": "site_name: Lumen\nplugins:\n  - i18n:\n      docs_structure: folder\n      languages:\n"
                  "        - locale: en\n          default: true\n        - locale: ru\n",
    "docs/en/index.md": "# Lumen help\n\nRead about [ports](ports.md).\n",
    "docs/en/ports.md": "# Router ports\n\nThe router has four Ethernet ports and one uplink port.\n",
    "docs/ru/ports.md": "# Порты роутера\n\nУ роутера четыре порта Ethernet и один порт для подключения к сети.\n",
}

HUGO_FOLDERS = {
    "hugo.toml": "defaultContentLanguage = 'en'\n[languages.en]\ncontentDir = 'content/en'\n[languages.ru]\n"
                 "contentDir = 'content/ru'\n",
    "content/en/docs/_index.md": "+++\ntitle = 'Documentation'\n+++\n\nEverything about the Lumen router.\n",
    "content/en/docs/firmware/index.md": "---\ntitle: Updating the firmware\n---\n\n{{< alert title=\"Careful\" "
                                         "color=\"warning\" >}}\nKeep the router powered during the update.\n"
                                         "{{< /alert >}}\n\nSee [the docs]({{< ref \"/docs\" >}}).\n\n"
                                         "{{< youtube abc123 >}}\n\n{{< tabpane text=true >}}\n{{% tab header=\"Linux\" %}}\n"
                                         "Run the updater as root.\n{{% /tab %}}\n{{< /tabpane >}}\n",
    "content/ru/docs/firmware/index.md": "---\ntitle: Обновление прошивки\n---\n\n{{< alert title=\"Осторожно\" >}}"
                                         "\nНе отключайте питание роутера во время обновления.\n{{< /alert >}}\n",
}

HUGO_NAMES = {
    "config.toml": "defaultContentLanguage = 'en'\n[languages.en]\n[languages.ru]\n",
    "content/guide/wifi.md": "---\ntitle: Wi-Fi guide\n---\n\n{{% note %}}\nUse 5 GHz for speed.\n{{% /note %}}\n",
    "content/guide/wifi.ru.md": "---\ntitle: Руководство по Wi-Fi\n---\n\nДля скорости используйте диапазон 5 ГГц, "
                                "а для дальности — 2,4 ГГц.\n",
}

HTML_EXPORT = {
    "en/articles/reset.html": "<html lang=\"en\"><head><title>Reset | Help</title></head><body><nav>Home</nav>"
                              "<article><h1>Resetting the router</h1><p>Hold the <b>reset</b> button.<br>Then wait."
                              "</p><p>See <a href=\"ports.html\">ports</a>.</p><table><tr><th>Light</th><th>Meaning"
                              "</th></tr><tr><td>Green</td><td>Ready</td></tr></table></article>"
                              "<footer>Copyright</footer></body></html>",
    "en/articles/ports.html": "<html lang=\"en\"><body><main><h1>Router ports</h1><p>Four Ethernet ports.</p>"
                              "<img src=\"../img/ports.png\" alt=\"Ports\"></main></body></html>",
    "en/img/ports.png": PNG,
    "ru/articles/reset.html": "<html lang=\"ru\"><body><article><h1>Сброс роутера</h1><p>Нажмите и удерживайте "
                              "кнопку сброса, затем подождите, пока роутер перезагрузится.</p></article></body></html>",
}
