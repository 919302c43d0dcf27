def test_menu(phone):
    replies = phone.text("MENU")
    print(replies)
    assert replies
