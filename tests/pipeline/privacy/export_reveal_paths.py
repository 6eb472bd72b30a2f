def exercise_export_reveals(url, token, tmp_path):
    return None
