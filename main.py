from source_aircall_salescaling.run import run

if __name__ == "__main__":
    run()
